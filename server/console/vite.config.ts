import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vite';

// The duty-room console (docs/console.md): served by the server at /console/, bundled whole (no
// CDN: sites are often offline).
export default defineConfig({
  root: import.meta.dirname,
  base: '/console/',
  plugins: [vue()],
  // vue-i18n's runtime-only build: messages are plain objects (no compiler, no eval, smaller).
  define: {
    __VUE_I18N_FULL_INSTALL__: false,
    __VUE_I18N_LEGACY_API__: false,
    __INTLIFY_PROD_DEVTOOLS__: false,
    __VUE_OPTIONS_API__: false,
    __VUE_PROD_DEVTOOLS__: false,
    __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: false,
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 800,
  },
  server: { proxy: { '/api': { target: 'http://127.0.0.1:8080', ws: true } } },
});
