#!/usr/bin/env node
/** llmos as a process: this process's arguments, streams and signals (the command is commands/llmos.ts). */
import { main } from './commands/llmos.js';
import { runEntry } from './main-io.js';

runEntry('llmos', main);
