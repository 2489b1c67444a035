#!/usr/bin/env node
// The installed `bootfarm` command: a committed file (npm links bins at install time, before the
// build), loading the compiled CLI.
import '../dist/main.js';
