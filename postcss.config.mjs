/**
 * PostCSS runs Tailwind CSS v4 (the portal's styles). No tailwind.config: v4 finds the
 * classes in the sources itself, and the theme lives in app/globals.css (@theme).
 */
export default {
  plugins: { '@tailwindcss/postcss': {} },
};
