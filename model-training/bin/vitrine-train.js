#!/usr/bin/env node
// The trainer is TypeScript; tsx runs it without a separate compile step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.ts');
