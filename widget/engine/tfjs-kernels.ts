/**
 * TensorFlow.js for the engine, cut to what the two-tower model executes: the CPU backend's
 * base entry (no kernels) plus the kernels protocol/model.ts uses. The full CPU backend is
 * ~260 kB of minified JS to fetch, parse and run in every page's worker; this is a fraction.
 * A model op outside this list fails loudly ("kernel not registered"), and the model tests in
 * Chromium would catch it.
 */
import '@tensorflow/tfjs-backend-cpu/dist/base';
import { registerKernel } from '@tensorflow/tfjs-core';
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { addConfig } from '@tensorflow/tfjs-backend-cpu/dist/kernels/Add';
import { batchMatMulConfig } from '@tensorflow/tfjs-backend-cpu/dist/kernels/BatchMatMul';
import { castConfig } from '@tensorflow/tfjs-backend-cpu/dist/kernels/Cast';
import { concatConfig } from '@tensorflow/tfjs-backend-cpu/dist/kernels/Concat';
import { fillConfig } from '@tensorflow/tfjs-backend-cpu/dist/kernels/Fill';
import { identityConfig } from '@tensorflow/tfjs-backend-cpu/dist/kernels/Identity';
import { multiplyConfig } from '@tensorflow/tfjs-backend-cpu/dist/kernels/Multiply';
import { reluConfig } from '@tensorflow/tfjs-backend-cpu/dist/kernels/Relu';
import { reshapeConfig } from '@tensorflow/tfjs-backend-cpu/dist/kernels/Reshape';

const KERNELS: KernelConfig[] = [addConfig, batchMatMulConfig, castConfig, concatConfig, fillConfig, identityConfig, multiplyConfig, reluConfig, reshapeConfig];

export function registerModelKernels(): void {
  for (const kernel of KERNELS) registerKernel(kernel);
}
