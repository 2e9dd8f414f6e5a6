#!/usr/bin/env node
/** run-follower as a process: this process's arguments, streams and signals (the command is commands/run-follower.ts). */
import { main } from './commands/run-follower.js';
import { runEntry } from './main-io.js';

runEntry('run-follower', main);
