#!/usr/bin/env node
/** run-agentic-follower as a process: this process's arguments, streams and signals (the command is commands/run-agentic-follower.ts). */
import { main } from './commands/run-agentic-follower.js';
import { runEntry } from './main-io.js';

runEntry('run-agentic-follower', main);
