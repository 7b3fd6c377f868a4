// ESLint for the desk page's native ES modules (service/static/js): the recommended rules
// plus a few that catch slips in a page with no build step.
import js from "@eslint/js";

const browser = Object.fromEntries([
  "window", "document", "navigator", "fetch", "sessionStorage", "localStorage", "setTimeout", "clearTimeout",
  "setInterval", "clearInterval", "URL", "URLSearchParams", "AbortController", "TextDecoderStream",
  "AudioContext", "Event", "console",
].map((name) => [name, "readonly"]));

export default [
  js.configs.recommended,
  {
    files: ["service/static/js/**/*.js"],
    languageOptions: { ecmaVersion: 2022, sourceType: "module", globals: browser },
    rules: {
      "no-unused-vars": ["error", { args: "after-used" }],
      "no-var": "error",
      "prefer-const": "error",
      eqeqeq: ["error", "always"],
      "no-implicit-globals": "error",
      "no-console": "error",
    },
  },
];
