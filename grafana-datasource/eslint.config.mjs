// Grafana's lint rules for plugins, with type information for src/.
import grafanaConfig from '@grafana/eslint-config/flat.js';

export default [
  { ignores: ['**/node_modules/', '**/dist/', 'harness/build/', 'coverage/', '*.config.js', '*.config.ts'] },
  ...grafanaConfig,
  { rules: { 'react/prop-types': 'off' } },
  {
    files: ['src/**/*.{ts,tsx}', 'harness/**/*.{ts,tsx}'],
    languageOptions: { parserOptions: { project: './tsconfig.json' } },
    rules: { '@typescript-eslint/no-deprecated': 'warn' },
  },
];
