import { fileURLToPath } from 'node:url';

/** The workflow bundle written by `npm run build` (worker/bundle.ts), so workers start without running webpack. */
export const WORKFLOW_BUNDLE = fileURLToPath(new URL('../workflow-bundle.js', import.meta.url));
