/**
 * Entry of the engine Web Worker. The tfjs CPU backend is registered here so that nothing on
 * the main thread ever loads TensorFlow.js.
 */
import '@tensorflow/tfjs-backend-cpu';
import { setBackend } from '@tensorflow/tfjs-core';
import { expose } from 'comlink';
import { DeviceEngine } from './device-engine.ts';

void setBackend('cpu');
expose(new DeviceEngine());
