// Registers the experiment commands: train, population, landscape and unroll-study.

import type { Command } from 'commander';
import type { CliIO } from '../io.ts';
import { registerLandscape } from './landscape.ts';
import { registerPopulation } from './population.ts';
import { registerTrain } from './train.ts';
import { registerUnrollStudy } from './unroll-study.ts';

export function registerExperiments(program: Command, io: CliIO): void {
  registerTrain(program, io);
  registerPopulation(program, io);
  registerLandscape(program, io);
  registerUnrollStudy(program, io);
}
