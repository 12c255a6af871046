export { main, findCommand, VERSION, type MainEnv } from './main.js';
export { COMMANDS } from './commands/index.js';
export { EXIT_CODES, type CommandDef } from './command.js';
