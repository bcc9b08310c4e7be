/** Stamped on every landed blob; a unit test keeps it equal to package.json's version. */
export const ORBITER_VERSION = '0.1.0';
