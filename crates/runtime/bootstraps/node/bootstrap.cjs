'use strict';
/*
 * Ponte's Lambda runtime for nodejs*.x functions (Node's standard library only).
 *
 * Speaks the Lambda Runtime API at $AWS_LAMBDA_RUNTIME_API as AWS's Node runtime interface
 * client does, and formats results, errors and log lines the same way:
 * - init: load `file.export` from $_HANDLER under $LAMBDA_TASK_ROOT (CommonJS `.js`/`.cjs`,
 *   ES modules `.mjs` or `.js` under a package.json with "type": "module"); failures go to
 *   /runtime/init/error (Runtime.ImportModuleError, Runtime.HandlerNotFound,
 *   Runtime.MalformedHandlerName, Runtime.UserCodeSyntaxError) and the process exits;
 * - loop: GET /invocation/next, call the handler (async, or callback-style with
 *   context.callbackWaitsForEmptyEventLoop honoured), POST the result or the error
 *   ({"errorType": error.name, "errorMessage", "trace": stack lines});
 * - console.* writes "<ISO time>\t<request id>\t<LEVEL>\t<message>", with "\r" between the
 *   lines of one message so the host keeps it as one log event.
 * A keep-alive agent reuses one connection across invocations.
 */

const http = require('http');
const fs = require('fs');
const path = require('path');
const util = require('util');
const { pathToFileURL } = require('url');

const PREFIX = '/2018-06-01/runtime';
const [HOST, PORT] = (() => {
  const addr = process.env.AWS_LAMBDA_RUNTIME_API || '127.0.0.1:9001';
  const i = addr.lastIndexOf(':');
  return i < 0 ? [addr, 80] : [addr.slice(0, i), parseInt(addr.slice(i + 1), 10)];
})();
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

let currentRequestId = null;

function request(method, p, body, headers) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: HOST, port: PORT, method, path: PREFIX + p, agent, headers: headers || {} },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

function postJson(p, obj, errorType) {
  const body = Buffer.from(typeof obj === 'string' ? obj : JSON.stringify(obj), 'utf8');
  const headers = { 'Content-Type': 'application/json', 'Content-Length': body.length };
  if (errorType !== undefined) headers['Lambda-Runtime-Function-Error-Type'] = errorType;
  return request('POST', p, body, headers);
}

// ---- errors, formatted as the AWS runtime formats them -------------------------------------

function isError(e) {
  return util.types.isNativeError(e) || (e && typeof e === 'object' && typeof e.message === 'string' && typeof e.name === 'string' && typeof e.stack === 'string');
}

function toRapidResponse(error) {
  try {
    if (isError(error)) {
      return {
        errorType: error.name,
        errorMessage: error.message,
        trace: String(error.stack).split('\n'),
      };
    }
    return { errorType: typeof error, errorMessage: String(error), trace: [] };
  } catch (_e) {
    return {
      errorType: 'handled',
      errorMessage: 'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
    };
  }
}

function toFormatted(error) {
  try {
    const r = toRapidResponse(error);
    return '\t' + JSON.stringify({ errorType: r.errorType, errorMessage: r.errorMessage, stack: r.trace });
  } catch (_e) {
    return '\t' + String(error);
  }
}

class UserCodeError extends Error {
  constructor(name, message, cause) {
    super(message);
    this.name = name;
    if (cause && cause.stack) this.stack = `${name}: ${message}\n` + String(cause.stack).split('\n').slice(1).join('\n');
  }
}

// ---- console: Lambda's log line format -----------------------------------------------------

function writeLog(level, args) {
  const message = util.format.apply(util, args);
  const line = `${new Date().toISOString()}\t${currentRequestId || 'undefined'}\t${level}\t${message}`;
  process.stdout.write(line.replace(/\n/g, '\r') + '\n');
}
console.log = (...a) => writeLog('INFO', a);
console.info = (...a) => writeLog('INFO', a);
console.warn = (...a) => writeLog('WARN', a);
console.error = (...a) => writeLog('ERROR', a);
console.debug = (...a) => writeLog('DEBUG', a);
console.trace = (...a) => writeLog('TRACE', a);
console.fatal = (...a) => writeLog('FATAL', a);

// ---- loading the handler -------------------------------------------------------------------

function splitHandler(handler) {
  const slash = handler.lastIndexOf('/') + 1;
  const dot = handler.indexOf('.', slash);
  if (dot < 0 || dot === handler.length - 1) {
    throw new UserCodeError('Runtime.MalformedHandlerName', `Bad handler ${handler}`);
  }
  return [handler.slice(0, dot), handler.slice(dot + 1)];
}

function isEsmPackage(dir, root) {
  let d = dir;
  for (;;) {
    const pj = path.join(d, 'package.json');
    if (fs.existsSync(pj)) {
      try {
        return JSON.parse(fs.readFileSync(pj, 'utf8')).type === 'module';
      } catch (_e) {
        return false;
      }
    }
    if (d === root || d === path.dirname(d)) return false;
    d = path.dirname(d);
  }
}

async function loadModule(root, modulePath) {
  const base = path.resolve(root, modulePath);
  const tryImport = async (file) => import(pathToFileURL(file).href);
  if (fs.existsSync(base + '.js')) {
    if (isEsmPackage(path.dirname(base), root)) return tryImport(base + '.js');
    return require(base + '.js');
  }
  if (fs.existsSync(base + '.mjs')) return tryImport(base + '.mjs');
  if (fs.existsSync(base + '.cjs')) return require(base + '.cjs');
  // A package from node_modules, as the AWS runtime allows.
  return require(require.resolve(modulePath, { paths: [root, path.join(root, 'node_modules')] }));
}

async function loadHandler(root, handlerString) {
  const [modulePath, handlerPath] = splitHandler(handlerString);
  let mod;
  try {
    mod = await loadModule(root, modulePath);
  } catch (e) {
    if (e instanceof SyntaxError) {
      throw new UserCodeError('Runtime.UserCodeSyntaxError', String(e), e);
    }
    if (e && (e.code === 'MODULE_NOT_FOUND' || e.code === 'ERR_MODULE_NOT_FOUND')) {
      // The loader's own message names the module that is missing (the handler's file or
      // one of its imports), as on AWS.
      throw new UserCodeError('Runtime.ImportModuleError', `${e.name || 'Error'}: ${e.message}`, e);
    }
    throw e;
  }
  const resolvePath = (root) => handlerPath.split('.').reduce((o, k) => (o == null ? undefined : o[k]), root);
  let fn = resolvePath(mod);
  // A CommonJS module imported as ESM exposes its exports under `default`.
  if (fn === undefined && mod && typeof mod.default === 'object') fn = resolvePath(mod.default);
  if (fn === undefined || fn === null) {
    throw new UserCodeError('Runtime.HandlerNotFound', `${handlerString} is undefined or not exported`);
  }
  if (typeof fn !== 'function') {
    throw new UserCodeError('Runtime.HandlerNotFound', `${handlerString} is not a function`);
  }
  return fn;
}

// ---- the invocation loop -------------------------------------------------------------------

let onCurrentError = null;
// One permanent 'beforeExit' listener whose action each invocation swaps, as AWS's runtime does.
let beforeExitAction = null;
process.on('beforeExit', () => {
  const action = beforeExitAction;
  beforeExitAction = null;
  if (action) action();
});

function buildContext(headers, done) {
  const deadline = parseInt(headers['lambda-runtime-deadline-ms'] || '0', 10);
  const ctx = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: headers['lambda-runtime-aws-request-id'],
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    getRemainingTimeInMillis: () => Math.max(deadline - Date.now(), 0),
    done: (err, result) => done(err, result),
    succeed: (result) => done(null, result),
    fail: (err) => done(err == null ? '' : err),
  };
  if (headers['lambda-runtime-client-context']) {
    try {
      ctx.clientContext = JSON.parse(headers['lambda-runtime-client-context']);
    } catch (_e) { /* ignored, as AWS does */ }
  }
  if (headers['lambda-runtime-cognito-identity']) {
    try {
      const id = JSON.parse(headers['lambda-runtime-cognito-identity']);
      ctx.identity = { cognitoIdentityId: id.cognitoIdentityId, cognitoIdentityPoolId: id.cognitoIdentityPoolId };
    } catch (_e) { /* ignored */ }
  }
  return ctx;
}

function serialize(result) {
  const s = JSON.stringify(result === undefined ? null : result);
  return s === undefined ? 'null' : s;
}

async function invokeOnce(handler) {
  const next = await request('GET', '/invocation/next');
  const headers = next.headers;
  const id = headers['lambda-runtime-aws-request-id'];
  currentRequestId = id;
  if (headers['lambda-runtime-trace-id']) process.env._X_AMZN_TRACE_ID = headers['lambda-runtime-trace-id'];
  else delete process.env._X_AMZN_TRACE_ID;

  return new Promise((resolve) => {
    let finished = false;
    let ctx;
    const postError = (err) => {
      console.error('Invoke Error', toFormatted(err));
      const r = toRapidResponse(err);
      return postJson(`/invocation/${id}/error`, r, r.errorType);
    };
    const finish = (err, result) => {
      if (finished) {
        console.error('Invocation has already been reported as done. Cannot call complete more than once per invocation.');
        return;
      }
      finished = true;
      onCurrentError = null;
      beforeExitAction = null;
      let p;
      if (err !== undefined && err !== null) {
        p = postError(err);
      } else {
        let body;
        try {
          body = serialize(result);
        } catch (e) {
          p = postError(new UserCodeError('Runtime.MarshalError', `Unable to stringify response body: ${e.message}`));
        }
        if (!p) p = postJson(`/invocation/${id}/response`, body);
      }
      p.then(() => resolve(), () => resolve());
    };
    // Callback style with callbackWaitsForEmptyEventLoop: the result goes out once the event
    // loop is empty, as on AWS.
    const callback = (err, result) => {
      if (err !== undefined && err !== null) return finish(err);
      if (!ctx.callbackWaitsForEmptyEventLoop) return finish(null, result);
      beforeExitAction = () => setImmediate(() => finish(null, result));
    };
    onCurrentError = (err) => finish(err);
    // AWS's default when the event loop empties before the handler reported anything: null.
    beforeExitAction = () => finish(null, null);
    let event;
    try {
      event = next.body.length ? JSON.parse(next.body.toString('utf8')) : null;
    } catch (e) {
      return finish(new UserCodeError('Runtime.UnmarshalError', `Unable to parse input as JSON: ${e.message}`));
    }
    ctx = buildContext(headers, (err, result) => callback(err, result));
    try {
      const out = handler(event, ctx, callback);
      if (out && typeof out.then === 'function') {
        out.then((result) => finish(null, result), (err) => finish(err == null ? new Error(String(err)) : err));
      }
    } catch (e) {
      finish(e);
    }
  });
}

async function postInitError(error) {
  const r = toRapidResponse(error);
  console.error(`${r.errorType}: ${r.errorMessage}`);
  try {
    await postJson('/init/error', r, r.errorType);
  } catch (_e) { /* nothing left to tell */ }
  process.exit(1);
}

process.on('uncaughtException', (error) => {
  console.error('Uncaught Exception', toFormatted(error));
  if (onCurrentError) {
    const report = onCurrentError;
    onCurrentError = null;
    report(error);
    setTimeout(() => process.exit(129), 50);
  } else {
    process.exit(129);
  }
});

process.on('unhandledRejection', (reason) => {
  const error = new UserCodeError('Runtime.UnhandledPromiseRejection', reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason), reason);
  console.error('Unhandled Promise Rejection', toFormatted(error));
  if (onCurrentError) {
    const report = onCurrentError;
    onCurrentError = null;
    report(error);
    setTimeout(() => process.exit(128), 50);
  } else {
    process.exit(128);
  }
});

(async () => {
  const root = process.env.LAMBDA_TASK_ROOT || process.cwd();
  let handler;
  try {
    handler = await loadHandler(root, process.env._HANDLER || '');
  } catch (e) {
    await postInitError(e);
    return;
  }
  for (;;) {
    await invokeOnce(handler);
  }
})();
