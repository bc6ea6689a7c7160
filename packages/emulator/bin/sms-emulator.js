#!/usr/bin/env node
// A committed entry point, so package managers can link the command before dist/ is built.
import '../dist/cli.js';
