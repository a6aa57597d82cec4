import type { FailureConverter, PayloadConverter } from '@temporalio/common';

/** The encoding of a plain payload a codec requiring encryption refused; its data is the reason. */
export declare const REFUSED_PLAIN_ENCODING: string;
export declare const payloadConverter: PayloadConverter;
export declare const failureConverter: FailureConverter;
