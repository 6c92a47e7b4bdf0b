import { InvalidArgumentError } from 'commander';

/** A commander argument parser for an integer of at least `min`, naming the option when it refuses. */
export const integerOption = (name: string, min: number) => (text: string) => {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) {
    throw new InvalidArgumentError(`--${name} must be an integer >= ${min} (got '${text}')`);
  }
  return value;
};
