// The AWS SDK warns on Node 20 that it will need Node 22 from 2027; the image runs Node 22.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
