// miniprogram-simulate defines the global Component and Behavior constructors and a stub `wx`
// that the pages need when they are loaded.
import 'miniprogram-simulate';
