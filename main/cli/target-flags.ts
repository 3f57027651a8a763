/**
 * The target flags as the command line spells them (`--kms-key-id`, `--path-style`, …), mapped
 * onto app/target.ts's model; and the check that a required flag was given.
 */
import { CosyncError } from '../../app/result.js';
import { targetFromFields, type Target } from '../../app/target.js';
import type { TARGET_OPTIONS } from './cli-options.js';
import type { OptionValues } from './command-spec.js';

/** A required setting (named as its flag), present and not blank. */
export function requireOption(value: string | boolean | undefined, flag: string, hint = ''): string {
  if (typeof value !== 'string' || value.trim() === '') throw new CosyncError('usage', `missing --${flag}${hint}`);
  return value;
}

/** The target flags of a command, by their spellings (TARGET_OPTIONS and the storage-class and traffic-limit options). */
export type TargetFlags = Omit<OptionValues<typeof TARGET_OPTIONS>, 'account'> & {
  readonly 'storage-class'?: string | undefined;
  readonly 'traffic-limit'?: string | undefined;
};

/** Builds and validates a Target from a command's flags, before any I/O. */
export function targetFromFlags(flags: TargetFlags, defaultSse: 'none' | 'c'): Target {
  return targetFromFields(
    {
      endpoint: flags.endpoint,
      region: flags.region,
      bucket: flags.bucket,
      prefix: flags.prefix,
      sse: flags.sse,
      keyName: flags.key,
      kmsKeyId: flags['kms-key-id'],
      pathStyle: flags['path-style'],
      accelerate: flags.accelerate,
      dialect: flags.dialect,
      storageClass: flags['storage-class'],
      trafficLimit: flags['traffic-limit'],
    },
    defaultSse,
  );
}
