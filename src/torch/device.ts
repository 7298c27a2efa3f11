// Devices, named as in PyTorch ('cpu', 'cuda', 'cuda:1'), and whether this libtorch build can use them.
import { native } from './native.js';

// libtorch's device types (c10::Device parses the same names), with an optional index.
const DEVICE_NAME =
  /^(cpu|cuda|mps|meta|xpu|hip|ipu|xla|lazy|hpu|vulkan|metal|opengl|opencl|ideep|mkldnn|fpga|ve|ort|privateuseone)(:\d+)?$/;

export function isDeviceName(name: string): boolean {
  return DEVICE_NAME.test(name);
}

let cudaDeviceCount: number | undefined;

/**
 * Returns `device` if this process can use it, else throws naming the caller `fn`. CUDA is checked here
 * because libtorch's own error for a CUDA tensor in a CPU-only build is a page-long dispatcher listing.
 */
export function checkDevice(device: string, fn: string): string {
  if (typeof device !== 'string' || !isDeviceName(device)) {
    throw new TypeError(`${fn}(): unknown device '${String(device)}': expected 'cpu', 'cuda', 'cuda:1', ...`);
  }
  if (device.startsWith('cuda')) {
    cudaDeviceCount ??= native.buildInfo().cudaDevices;
    const index = Number(device.split(':')[1] ?? 0);
    if (index >= cudaDeviceCount) {
      throw new Error(
        `${fn}(): device '${device}' is not available: this libtorch build sees ${cudaDeviceCount} CUDA ` +
          'device(s) (torch.buildInfo().cudaDevices)',
      );
    }
  }
  return device;
}
