// miniprogram-simulate defines the global Component and Behavior constructors and a stub `wx`
// (mobx-miniprogram-bindings calls Behavior() as soon as it is imported).
import 'miniprogram-simulate';
