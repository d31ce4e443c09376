// wgsl_reflect's package "main" is a CommonJS file under "type": "module", so we import its ES module build
// directly; this gives that path the package's own types.
declare module 'wgsl_reflect/wgsl_reflect.module.js' {
  export * from 'wgsl_reflect';
}
