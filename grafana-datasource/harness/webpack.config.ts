// The screenshot harness's bundle: everything included (no Grafana to
// provide React or @grafana/ui), loaded from a file:// URL.
import CopyWebpackPlugin from 'copy-webpack-plugin';
import path from 'path';
import { type Configuration } from 'webpack';

const config: Configuration = {
  context: __dirname,
  mode: 'production',
  entry: { harness: './harness.tsx' },
  module: {
    // @grafana/ui's ES modules import some packages without file
    // extensions, and re-export names its Select module lacks in this
    // build; neither is used by the editors.
    parser: { javascript: { exportsPresence: 'warn' } },
    rules: [
      { test: /\.m?js$/, resolve: { fullySpecified: false } },
      {
        test: /\.[tj]sx?$/,
        exclude: /node_modules/,
        use: {
          loader: 'swc-loader',
          options: { jsc: { target: 'es2019', parser: { syntax: 'typescript', tsx: true }, transform: { react: { runtime: 'classic' } } } },
        },
      },
      { test: /\.css$/, use: ['style-loader', 'css-loader'] },
      { test: /\.(png|jpe?g|gif|svg|woff2?)$/, type: 'asset/inline' },
    ],
  },
  optimization: { minimize: false },
  performance: { hints: false },
  output: { path: path.join(__dirname, 'build'), filename: '[name].js', clean: true },
  plugins: [new CopyWebpackPlugin({ patterns: [{ from: 'index.html', to: '.' }] })],
  // Grafana's packages as CommonJS: their ES builds import CommonJS
  // modules (react-use) in ways webpack does not interoperate with.
  resolve: {
    // The code editor is not part of the editors photographed.
    alias: { 'monaco-editor': false },
    extensions: ['.js', '.jsx', '.ts', '.tsx'],
    mainFields: ['browser', 'main'], conditionNames: ['require', 'browser', 'default'],
  },
};

export default config;
