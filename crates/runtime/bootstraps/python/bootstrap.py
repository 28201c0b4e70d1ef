"""Ponte's Lambda runtime for python3.x functions (standard library only).

It speaks the Lambda Runtime API at $AWS_LAMBDA_RUNTIME_API exactly as AWS's python runtime
interface client (awslambdaric) does, and formats results, errors and log lines the same way:
- init: import `module.function` from $_HANDLER with $LAMBDA_TASK_ROOT first on sys.path; a
  failure is posted to /runtime/init/error (Runtime.ImportModuleError, Runtime.HandlerNotFound,
  Runtime.UserCodeSyntaxError, Runtime.MalformedHandlerName, ...) and the process exits;
- loop: GET /invocation/next, run the handler with a LambdaContext, POST the JSON result to
  /response or the error to /error ({"errorMessage","errorType","requestId","stackTrace"});
- logging: the root logger gets Lambda's handler ("[LEVEL]\\t<time>Z\\t<request id>\\t<message>"),
  multi-line records are written with "\\r" between lines so the host keeps them as one event.

One HTTP/1.1 connection is kept alive across invocations so a warm invoke costs a few syscalls.
"""

import decimal
import http.client
import importlib
import json
import logging
import os
import sys
import time
import traceback

RUNTIME_API = os.environ["AWS_LAMBDA_RUNTIME_API"]
PREFIX = "/2018-06-01/runtime"
ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"

_request_id = None


class FaultException(Exception):
    MARSHAL_ERROR = "Runtime.MarshalError"
    UNMARSHAL_ERROR = "Runtime.UnmarshalError"
    USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
    HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
    IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
    BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
    MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"

    def __init__(self, exception_type, msg, trace=None):
        super().__init__(msg)
        self.msg = msg
        self.exception_type = exception_type
        self.trace = trace


class Client:
    """Runtime API client over one kept-alive connection (reconnects when it drops)."""

    def __init__(self, address):
        host, _, port = address.partition(":")
        self.host = host
        self.port = int(port) if port else 80
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port)
            try:
                self.conn.request(method, PREFIX + path, body=body, headers=headers or {})
                resp = self.conn.getresponse()
                data = resp.read()
                return resp, data
            except (ConnectionError, http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt == 1:
                    raise

    def next(self):
        resp, body = self.request("GET", "/invocation/next")
        if resp.status != 200:
            raise RuntimeError("next invocation failed: %s %r" % (resp.status, body))
        return resp, body

    def post_result(self, request_id, body):
        resp, data = self.request(
            "POST",
            "/invocation/%s/response" % request_id,
            body,
            {"Content-Type": "application/json"},
        )
        return resp.status, data

    def post_error(self, request_id, error):
        body = to_json(error).encode("utf-8")
        self.request(
            "POST",
            "/invocation/%s/error" % request_id,
            body,
            {"Content-Type": "application/json", ERROR_TYPE_HEADER: error.get("errorType", "")},
        )

    def post_init_error(self, error):
        body = to_json(error).encode("utf-8")
        self.request(
            "POST",
            "/init/error",
            body,
            {"Content-Type": "application/json", ERROR_TYPE_HEADER: error.get("errorType", "")},
        )


def decimal_serializer(o):
    if isinstance(o, decimal.Decimal):
        return float(o) if o % 1 else int(o)
    raise TypeError(repr(o) + " is not JSON serializable")


def to_json(obj):
    return json.dumps(obj, default=decimal_serializer)


def make_error(error_message, error_type, stack_trace, invoke_id=None):
    return {
        "errorMessage": error_message if error_message else "",
        "errorType": error_type if error_type else "",
        "requestId": invoke_id if invoke_id is not None else "",
        "stackTrace": stack_trace if stack_trace is not None else [],
    }


def log_error(error_result):
    """Writes an error the way the AWS runtime does: one event, "\\r" between its lines."""
    description = "[ERROR]"
    error_type = error_result.get("errorType")
    if error_type:
        description += " " + error_type
    message = error_result.get("errorMessage")
    if message:
        if error_type:
            description += ":"
        description += " " + message
    lines = [description]
    stack = error_result.get("stackTrace")
    if stack is not None:
        lines.append("Traceback (most recent call last):")
        for element in stack:
            if element == "":
                lines.append("")
            else:
                lines.extend(element.splitlines())
    sys.stdout.write("\r".join(lines) + "\n")


def get_handler(handler):
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as e:
        raise FaultException(
            FaultException.MALFORMED_HANDLER_NAME, "Bad handler '{}': {}".format(handler, str(e))
        )
    try:
        if modname.split(".")[0] in sys.builtin_module_names:
            raise FaultException(
                FaultException.BUILT_IN_MODULE_CONFLICT,
                "Cannot use built-in module {} as a handler module".format(modname),
            )
        module = importlib.import_module(modname.replace("/", "."))
    except ImportError as e:
        raise FaultException(
            FaultException.IMPORT_MODULE_ERROR,
            "Unable to import module '{}': {}".format(modname, str(e)),
        )
    except SyntaxError as e:
        trace = ['  File "%s" Line %s\n    %s' % (e.filename, e.lineno, e.text)]
        raise FaultException(
            FaultException.USER_CODE_SYNTAX_ERROR,
            "Syntax error in module '{}': {}".format(modname, str(e)),
            trace,
        )
    try:
        return getattr(module, fname)
    except AttributeError:
        raise FaultException(
            FaultException.HANDLER_NOT_FOUND,
            "Handler '{}' missing on module '{}'".format(fname, modname),
        )


class CognitoIdentity:
    __slots__ = ["cognito_identity_id", "cognito_identity_pool_id"]

    def __repr__(self):
        return "CognitoIdentity([cognito_identity_id={};cognito_identity_pool_id={}])".format(
            self.cognito_identity_id, self.cognito_identity_pool_id
        )


class Client_:
    __slots__ = ["installation_id", "app_title", "app_version_name", "app_version_code", "app_package_name"]


class ClientContext:
    __slots__ = ["custom", "env", "client"]


def make_identity(text):
    identity = CognitoIdentity()
    data = {}
    if text:
        try:
            data = json.loads(text) or {}
        except ValueError:
            data = {}
    identity.cognito_identity_id = data.get("cognitoIdentityId")
    identity.cognito_identity_pool_id = data.get("cognitoIdentityPoolId")
    return identity


def make_client_context(text):
    if not text:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    context = ClientContext()
    context.custom = data.get("custom")
    context.env = data.get("env")
    client = data.get("client")
    if client is not None:
        c = Client_()
        c.installation_id = client.get("installation_id")
        c.app_title = client.get("app_title")
        c.app_version_name = client.get("app_version_name")
        c.app_version_code = client.get("app_version_code")
        c.app_package_name = client.get("app_package_name")
        context.client = c
    else:
        context.client = None
    return context


class LambdaContext:
    def __init__(self, invoke_id, client_context, cognito_identity, deadline_ms, invoked_function_arn):
        self.aws_request_id = invoke_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_function_arn
        self.tenant_id = None
        self.client_context = make_client_context(client_context)
        self.identity = make_identity(cognito_identity)
        self._deadline_ms = int(deadline_ms or 0)

    def get_remaining_time_in_millis(self):
        return max(self._deadline_ms - int(round(time.time() * 1000)), 0)

    def log(self, msg):
        sys.stdout.write(str(msg))

    def __repr__(self):
        return (
            "LambdaContext([aws_request_id={},log_group_name={},log_stream_name={},function_name={},"
            "memory_limit_in_mb={},function_version={},invoked_function_arn={},client_context={},"
            "identity={}])".format(
                self.aws_request_id,
                self.log_group_name,
                self.log_stream_name,
                self.function_name,
                self.memory_limit_in_mb,
                self.function_version,
                self.invoked_function_arn,
                self.client_context,
                self.identity,
            )
        )


class LambdaLoggerHandler(logging.Handler):
    def emit(self, record):
        msg = self.format(record)
        sys.stdout.write(msg.replace("\n", "\r") + "\n")


class LambdaLoggerFilter(logging.Filter):
    def filter(self, record):
        record.aws_request_id = _request_id or ""
        return True


def setup_logging():
    logging.Formatter.converter = time.gmtime
    handler = LambdaLoggerHandler()
    handler.setFormatter(
        logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
            "%Y-%m-%dT%H:%M:%S",
        )
    )
    handler.addFilter(LambdaLoggerFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    level = os.environ.get("AWS_LAMBDA_LOG_LEVEL")
    if level:
        root.setLevel(level.upper())


def post_error(client, invoke_id, error):
    try:
        client.post_error(invoke_id, error)
    except Exception as e:
        sys.stdout.write("[ERROR] Runtime.LambdaRuntimeClientError: could not post the error: {}\n".format(e))


def handle(client, handler, headers, body):
    global _request_id
    invoke_id = headers.get("Lambda-Runtime-Aws-Request-Id")
    _request_id = invoke_id
    trace_id = headers.get("Lambda-Runtime-Trace-Id")
    if trace_id:
        os.environ["_X_AMZN_TRACE_ID"] = trace_id
    else:
        os.environ.pop("_X_AMZN_TRACE_ID", None)
    try:
        try:
            event = json.loads(body) if body else None
        except ValueError as e:
            raise FaultException(FaultException.UNMARSHAL_ERROR, "Unable to unmarshal input: {}".format(str(e)))
        context = LambdaContext(
            invoke_id,
            headers.get("Lambda-Runtime-Client-Context"),
            headers.get("Lambda-Runtime-Cognito-Identity"),
            headers.get("Lambda-Runtime-Deadline-Ms"),
            headers.get("Lambda-Runtime-Invoked-Function-Arn"),
        )
        result = handler(event, context)
        try:
            payload = to_json(result).encode("utf-8")
        except (TypeError, ValueError) as e:
            raise FaultException(FaultException.MARSHAL_ERROR, "Unable to marshal response: {}".format(str(e)))
    except FaultException as e:
        error = make_error(e.msg, e.exception_type, e.trace, invoke_id)
        log_error(error)
        post_error(client, invoke_id, error)
        return
    except Exception:
        etype, value, tb = sys.exc_info()
        frames = traceback.extract_tb(tb)
        # Drop this file's own frames, as the AWS runtime drops its bootstrap's.
        while frames and frames[0].filename == __file__:
            frames = frames[1:]
        error = make_error(str(value), etype.__name__, traceback.format_list(frames), invoke_id)
        log_error(error)
        post_error(client, invoke_id, error)
        return
    try:
        status, _ = client.post_result(invoke_id, payload)
    except Exception as e:
        sys.stdout.write("[ERROR] Runtime.LambdaRuntimeClientError: could not post the response: {}\n".format(e))
        return
    if status == 413:
        sys.stdout.write(
            "[ERROR] Runtime.ResponseSizeTooLarge: Response payload size exceeded maximum allowed payload size (6291556 bytes).\n"
        )


def main():
    task_root = os.environ.get("LAMBDA_TASK_ROOT", os.getcwd())
    if task_root not in sys.path:
        sys.path.insert(0, task_root)
    # Nothing of this bootstrap's directory should shadow user modules.
    here = os.path.dirname(os.path.abspath(__file__))
    if here in sys.path:
        sys.path.remove(here)
    client = Client(RUNTIME_API)
    setup_logging()
    try:
        handler = get_handler(os.environ["_HANDLER"])
    except FaultException as e:
        error = make_error(e.msg, e.exception_type, e.trace)
        log_error(error)
        client.post_init_error(error)
        sys.exit(1)
    except Exception:
        etype, value, tb = sys.exc_info()
        error = make_error(
            "{}".format(value), etype.__name__, traceback.format_list(traceback.extract_tb(tb)[1:])
        )
        log_error(error)
        client.post_init_error(error)
        sys.exit(1)
    while True:
        resp, body = client.next()
        handle(client, handler, resp.headers, body)


if __name__ == "__main__":
    main()
