#!/usr/bin/env node
// Runs the TypeScript entry point from source through tsx.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
