// ESLint (flat config) with typescript-eslint's type-aware rules: `npm run lint` (with `prettier --check`).
// Formatting is Prettier's job; ESLint looks for bugs: promises nobody awaits, promises where a
// callback expects a plain value, unused code, and the recommended type-checked set.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
    { ignores: ["**/node_modules/**", "**/dist/**", "compliance/**"] },
    js.configs.recommended,
    tseslint.configs.recommendedTypeChecked,
    {
        languageOptions: {
            // One program for the whole repository (policies/tsconfig.json would make a second one).
            parserOptions: { project: "./tsconfig.json", tsconfigRootDir: import.meta.dirname },
        },
        linterOptions: { reportUnusedDisableDirectives: "error" },
        rules: {
            // The no-unsafe-* family takes half of the lint time and flags the JSON/gRPC boundaries
            // that `strict` TypeScript already types as unknown/any on purpose.
            "@typescript-eslint/no-unsafe-assignment": "off",
            "@typescript-eslint/no-unsafe-member-access": "off",
            "@typescript-eslint/no-unsafe-argument": "off",
            "@typescript-eslint/no-unsafe-return": "off",
            "@typescript-eslint/no-unsafe-call": "off",
            "@typescript-eslint/no-floating-promises": "error",
            "@typescript-eslint/no-misused-promises": "error",
            "@typescript-eslint/no-unused-vars": [
                "error",
                // `_name` marks a value left out on purpose (a destructured property dropped, a required parameter).
                { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" },
            ],
        },
    },
    {
        // House rule (issue #8): a function is read in one screen; tests are exempt (tables of cases).
        files: ["**/*.ts"],
        ignores: ["test/**"],
        rules: { "max-lines-per-function": ["error", { max: 60, skipBlankLines: true, skipComments: true }] },
    },
    {
        // Tests walk rendered JSON (`any` keeps those paths short) and stand in for async interfaces
        // with async functions that need no await.
        files: ["test/**/*.ts"],
        rules: { "@typescript-eslint/no-explicit-any": "off", "@typescript-eslint/require-await": "off" },
    },
    {
        // This file itself: plain JavaScript, no type information.
        files: ["**/*.mjs", "**/*.js"],
        extends: [tseslint.configs.disableTypeChecked],
    },
);
