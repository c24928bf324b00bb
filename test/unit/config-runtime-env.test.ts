import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OLDEST_SUPPORTED_NODE, quietSdkNodeVersionWarning } from '../../src/config/runtime-env';

const NAME = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';

describe("the AWS SDK's Node-version warning", () => {
  it('is turned off on every Node keepsake supports', () => {
    for (const version of ['20.0.0', '20.20.2', '22.11.0', '24.1.0']) {
      const env: NodeJS.ProcessEnv = {};
      quietSdkNodeVersionWarning(env, version);
      expect({ version, value: env[NAME] }).toEqual({ version, value: 'true' });
    }
  });

  it('is left alone on a Node keepsake does not support', () => {
    const env: NodeJS.ProcessEnv = {};
    quietSdkNodeVersionWarning(env, '18.20.4');
    expect(env[NAME]).toBeUndefined();
  });

  it("keeps an operator's own choice, and treats an empty value as unset", () => {
    const chosen: NodeJS.ProcessEnv = { [NAME]: 'false' };
    quietSdkNodeVersionWarning(chosen, '20.20.2');
    expect(chosen[NAME]).toBe('false');
    const empty: NodeJS.ProcessEnv = { [NAME]: '' };
    quietSdkNodeVersionWarning(empty, '20.20.2');
    expect(empty[NAME]).toBe('true');
  });

  it('uses the oldest Node that package.json supports', () => {
    const engines = (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    expect(engines).toBe(`>=${OLDEST_SUPPORTED_NODE}`);
  });
});
