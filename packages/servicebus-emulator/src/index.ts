export {
  emulatorConnectionString,
  startServiceBusEmulator,
  type EmulatorConfig,
  type ServiceBusEmulator,
  type ServiceBusEmulatorOptions,
} from './emulator';
export { createPinoLogger, silentLogger, type Logger } from './logger';
