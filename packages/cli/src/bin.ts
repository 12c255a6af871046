#!/usr/bin/env node
import { main } from './main.js';

const code = await main({ argv: process.argv.slice(2), env: process.env, cwd: process.cwd(), streams: { stdout: process.stdout, stderr: process.stderr } });
process.exitCode = code;
