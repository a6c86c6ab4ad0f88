import { ensureBuilt, ensureNodeDependencies } from './lib.mjs';

ensureNodeDependencies();
ensureBuilt();
