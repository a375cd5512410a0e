#!/usr/bin/env node
import { APP_NAME } from './index.js';

console.log(`${APP_NAME}: the reference app is not built yet (issue 8).`);
