// The failure converter of a process holding a payload key: failure messages and stack traces move into an encoded
// attributes payload, which the payload codec then encrypts like any other. Plain CommonJS because the SDK require()s
// it by path in the worker and bundles it into the workflow sandbox, and both must load it as is.
const { DefaultFailureConverter } = require('@temporalio/common');

exports.failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
