export { runwayRequirements, type ContentType, type NodeRequirements, type RunwayRequirements } from './requirements.js';
