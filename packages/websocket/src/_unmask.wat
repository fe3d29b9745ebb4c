;; WebSocket unmasking with WebAssembly SIMD (128-bit lanes). Source of the bytes embedded in
;; `_unmask_wasm.ts`; `scripts/build-unmask-wasm.ts` encodes exactly this module (the unit test
;; `unmask.test.ts` checks that the embedded bytes equal the encoder's output).
;;
;; Memory page 0 (64 KiB) is a scratch area: JS copies a block of masked bytes in, calls
;; `unmask(len, mask)`, and copies the result out. `len` must be a multiple of 64; `mask` is the
;; 4-byte key as a little-endian i32, already rotated to the block's offset in the payload.
(module
  (memory (export "memory") 1 1)
  (func (export "unmask") (param $len i32) (param $mask i32)
    (local $i i32) (local $m v128)
    (local.set $m (i32x4.splat (local.get $mask)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (v128.store offset=0 (local.get $i) (v128.xor (v128.load offset=0 (local.get $i)) (local.get $m)))
        (v128.store offset=16 (local.get $i) (v128.xor (v128.load offset=16 (local.get $i)) (local.get $m)))
        (v128.store offset=32 (local.get $i) (v128.xor (v128.load offset=32 (local.get $i)) (local.get $m)))
        (v128.store offset=48 (local.get $i) (v128.xor (v128.load offset=48 (local.get $i)) (local.get $m)))
        (local.set $i (i32.add (local.get $i) (i32.const 64)))
        (br $next)))))
