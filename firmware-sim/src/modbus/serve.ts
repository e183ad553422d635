/** Answers one request PDU from a simulated device: the part every Modbus transport shares. */
import type { SimDevice } from '../device.js';
import { ExceptionCode, ModbusException } from './exceptions.js';
import {
  bitsResponsePdu,
  exceptionResponsePdu,
  parseRequestPdu,
  registersResponsePdu,
  writeResponsePdu,
} from './frame.js';

export interface ServeResult {
  pdu: Buffer;
  /** The exception code when the answer is an exception. */
  exception?: number;
}

export function serveRequest(device: SimDevice, requestPdu: Uint8Array): ServeResult {
  const fc = requestPdu[0] ?? 0;
  try {
    const req = parseRequestPdu(requestPdu);
    switch (req.fc) {
      case 1:
        return { pdu: bitsResponsePdu(1, device.readCoils(req.address, req.count)) };
      case 3:
      case 4:
        return { pdu: registersResponsePdu(req.fc, device.readRegisters(req.fc, req.address, req.count)) };
      case 5:
        device.writeCoil(req.address, req.value);
        return { pdu: writeResponsePdu(req) };
      case 6:
        device.writeRegister(req.address, req.value);
        return { pdu: writeResponsePdu(req) };
      case 15:
        device.writeCoils(req.address, req.values);
        return { pdu: writeResponsePdu(req) };
      case 16:
        device.writeRegisters(req.address, req.values);
        return { pdu: writeResponsePdu(req) };
      default:
        throw new ModbusException(ExceptionCode.IllegalFunction, `function ${req.fc} not supported`);
    }
  } catch (err) {
    const code = err instanceof ModbusException ? err.exceptionCode : ExceptionCode.SlaveDeviceFailure;
    return { pdu: exceptionResponsePdu(fc, code), exception: code };
  }
}
