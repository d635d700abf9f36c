/** Stylesheets imported for their side effect (Vite puts them in the chunk's CSS). */
declare module '*.css'
