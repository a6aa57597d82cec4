// The converters of a process holding a payload key. Plain CommonJS because the SDK require()s this file by path in
// the worker and the client, and bundles it into the workflow sandbox: every one of them must load it as is.
const {
  ApplicationFailure,
  BinaryPayloadConverter,
  CompositePayloadConverter,
  DefaultFailureConverter,
  JsonPayloadConverter,
  UndefinedPayloadConverter,
} = require('@temporalio/common');
const { decode } = require('@temporalio/common/lib/encoding');

/** What the codec makes of a plain payload it refuses (LEADSYNC_REQUIRE_ENCRYPTED): its data is the reason. */
const REFUSED_PLAIN_ENCODING = 'binary/leadsync-refused-plain';

/**
 * A refused payload reads as a value that throws a non-retryable ApplicationFailure, saying why, as soon as anything
 * looks into it. Neither the codec nor this converter may throw: the SDK converts a workflow's arguments before the
 * workflow's code runs, and an error there fails the workflow task over and over and leaves the workflow open; thrown
 * from within the workflow's code (its input validation), the failure fails the workflow at once.
 */
class RefusedPlainPayloadConverter {
  constructor() {
    this.encodingType = REFUSED_PLAIN_ENCODING;
  }
  toPayload() {
    return undefined;
  }
  fromPayload(payload) {
    const reason = decode(payload.data ?? new Uint8Array());
    const refuse = () => {
      throw ApplicationFailure.nonRetryable(reason, 'ConfigError');
    };
    return new Proxy(
      {},
      { get: refuse, has: refuse, ownKeys: refuse, getOwnPropertyDescriptor: refuse, getPrototypeOf: refuse },
    );
  }
}

exports.REFUSED_PLAIN_ENCODING = REFUSED_PLAIN_ENCODING;

// The default converters, in the default order, and the refusal last: it never encodes anything.
exports.payloadConverter = new CompositePayloadConverter(
  new UndefinedPayloadConverter(),
  new BinaryPayloadConverter(),
  new JsonPayloadConverter(),
  new RefusedPlainPayloadConverter(),
);

// Failure messages and stack traces move into an encoded attributes payload, which the codec encrypts like any other.
exports.failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
