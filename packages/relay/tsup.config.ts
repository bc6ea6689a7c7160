import { defineConfig } from 'tsup';
import { commandBuild, libraryBuild } from '../../tsup.shared.ts';

export default defineConfig([libraryBuild(['src/index.ts']), commandBuild('src/cli.ts')]);
