// Jest renders the editors in jsdom with the real @grafana/ui components.
// Grafana's packages ship ES modules, which swc turns into CommonJS here.
process.env.TZ = 'UTC';

const esModules = ['ol', 'd3', 'd3-[a-z]+', 'internmap', 'delaunator', 'robust-predicates', 'marked', 'uuid', 'nanoid', 'rxjs', '@grafana/[a-z-]+', 'react-colorful', 'ua-parser-js', 'systemjs', 'monaco-promql', 'yaml', '@kusto/monaco-kusto', 'tether-drop', 'tinycolor2', 'react-calendar', 'get-user-locale', 'memoize', 'mimic-function', '@wojtekmaj/date-utils'];

module.exports = {
  testEnvironment: 'jest-environment-jsdom',
  roots: ['<rootDir>/src'],
  testMatch: ['<rootDir>/src/**/*.test.{ts,tsx}'],
  modulePaths: ['<rootDir>/src'],
  setupFilesAfterEnv: ['<rootDir>/jest-setup.ts'],
  moduleNameMapper: {
    '\\.(css|scss|sass)$': 'identity-obj-proxy',
  },
  transform: {
    '^.+\\.(m?js|tsx?|jsx)$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript', tsx: true }, transform: { react: { runtime: 'automatic' } } } },
    ],
  },
  transformIgnorePatterns: [`node_modules/(?!.*(${esModules.join('|')})/)`],
  // Generous: the editors' tests click through many selects, and CI machines are shared.
  testTimeout: 120000,
};
