// Type-aware linting: floating promises and unsafe `any` are the bugs a payment kit cannot afford.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const nodeTest = {
  from: 'package',
  package: 'node:test',
  name: ['test', 'it', 'describe', 'suite', 'before', 'after'],
};

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'build/**',
      '.local/**',
      '.tmp/**',
      'miniprogram/**',
      'local/host/fixtures/functions/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [nodeTest] }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // An async method without await is how an interface that returns a promise is implemented synchronously.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
    },
  },
  {
    // Tests read JSON answers from real servers; their assertions are the type check.
    files: ['**/*.test.ts', 'test/**/*.ts', 'local/wechat/testing.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      // the wx adapter rejects with { errMsg } objects, as the real wx.* APIs do
      '@typescript-eslint/only-throw-error': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['local/console/static/**/*.js'],
    languageOptions: { globals: { ...globals.browser } },
  },
);
