import { defineConfig } from 'tsup';
import { commandBuild, libraryBuild } from '../../tsup.shared.js';

export default defineConfig([libraryBuild(['src/index.ts']), commandBuild('src/cli.ts')]);
