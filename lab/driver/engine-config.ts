// Config handling that must not load @pulumi/pulumi (it runs before the SDK is imported).

export interface ConfigEntry {
  value: string;
  secret: boolean;
}

/** Config as the language host passes it: PULUMI_CONFIG / PULUMI_CONFIG_SECRET_KEYS. */
export function configEnv(
  config: Record<string, ConfigEntry>,
  project: string,
): { PULUMI_CONFIG: string; PULUMI_CONFIG_SECRET_KEYS: string } {
  const values: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [rawKey, entry] of Object.entries(config)) {
    const key = rawKey.includes(":") ? rawKey : `${project}:${rawKey}`;
    values[key] = entry.value;
    if (entry.secret) {
      secretKeys.push(key);
    }
  }
  return {
    PULUMI_CONFIG: JSON.stringify(values),
    PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(secretKeys),
  };
}
