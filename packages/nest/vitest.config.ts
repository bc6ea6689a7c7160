import { CURRENT_NEST_MAJOR, nestMajorConfig } from './vitest.nest-major.ts';

export default nestMajorConfig(CURRENT_NEST_MAJOR);
