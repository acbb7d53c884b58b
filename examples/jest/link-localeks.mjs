// In this repository the example uses the localeks checkout two folders up, as
// `npm install --save-dev <path-to-localeks>` would in your project: it links
// node_modules/localeks to it (npm install removes links it did not make, so
// `npm test` makes it again each time). tsx and @aws-sdk/client-eks resolve
// from the checkout's node_modules; your project lists them itself.
import { mkdirSync, readlinkSync, symlinkSync } from 'node:fs';
mkdirSync('node_modules', { recursive: true });
try {
  if (readlinkSync('node_modules/localeks') === '../../..') process.exit(0);
} catch {}
symlinkSync('../../..', 'node_modules/localeks', 'dir');
