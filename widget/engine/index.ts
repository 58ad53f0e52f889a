/**
 * Entry of the engine Web Worker. TensorFlow.js is set up here (CPU backend, only the kernels
 * the model needs) so that nothing on the main thread ever loads it.
 */
import { setBackend } from '@tensorflow/tfjs-core';
import { expose } from 'comlink';
import { DeviceEngine } from './device-engine.ts';
import { registerModelKernels } from './tfjs-kernels.ts';

registerModelKernels();
void setBackend('cpu');
expose(new DeviceEngine());
