export { imageUsage, type ImageUsage } from './usage.js';
