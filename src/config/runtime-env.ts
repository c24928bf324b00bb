/** The oldest Node keepsake supports: package.json's "engines" (test/unit/config-runtime-env.test.ts checks). */
export const OLDEST_SUPPORTED_NODE = 20;

/**
 * The AWS SDK warns on every S3 command under Node 22 that its releases from 2027 will need Node 22.
 * keepsake supports Node 20+ and pins the SDK in its lock file, so on a supported Node the warning
 * only hides what the command printed; on an older, unsupported Node it is left alone. The SDK
 * reads this variable from process.env itself, so this is the one place that sets one. An operator's
 * own value (true or false) wins.
 */
export function quietSdkNodeVersionWarning(env: NodeJS.ProcessEnv = process.env, nodeVersion = process.versions.node): void {
  const major = Number(nodeVersion.split('.')[0]);
  if (major < OLDEST_SUPPORTED_NODE || env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED?.trim()) return;
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
}
