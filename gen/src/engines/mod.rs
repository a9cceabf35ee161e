pub mod swg;
