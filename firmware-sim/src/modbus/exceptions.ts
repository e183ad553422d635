/** Modbus exception codes a slave answers with (Modbus Application Protocol V1.1b3, §7). */
export const ExceptionCode = {
  IllegalFunction: 1,
  IllegalDataAddress: 2,
  IllegalDataValue: 3,
  SlaveDeviceFailure: 4,
  /** Modbus TCP gateways: the addressed unit does not exist behind this server. */
  GatewayTargetFailed: 0x0b,
} as const;
export type ExceptionCode = (typeof ExceptionCode)[keyof typeof ExceptionCode];

/** A Modbus exception a simulated device raises; the transport answers it as `fc | 0x80, exceptionCode`. */
export class ModbusException extends Error {
  readonly code = 'modbus_exception';
  constructor(
    readonly exceptionCode: ExceptionCode,
    message: string,
  ) {
    super(`Modbus exception ${exceptionCode}: ${message}`);
    this.name = 'ModbusException';
  }
}
