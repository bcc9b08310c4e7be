export { defaultLakeRoot, defaultWorkDir, startDatabricksEmulator, type DatabricksEmulator, type DatabricksEmulatorOptions } from './emulator';
