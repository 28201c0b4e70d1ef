// Test function for the Lambda compatibility suite (nodejs runtimes).
exports.handler = async (event, context) => {
  if (event && event.action === "error") {
    throw new Error(event.message || "node boom");
  }
  if (event && event.action === "print") {
    console.log(event.message || "");
  }
  return {
    event,
    runtime: "node",
    functionName: context.functionName,
    functionVersion: context.functionVersion,
    requestId: context.awsRequestId,
    region: process.env.AWS_REGION,
  };
};
