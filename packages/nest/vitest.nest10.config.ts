import { nestMajorConfig } from './vitest.nest-major.ts';

export default nestMajorConfig(10);
