/* empty: the mkverify prelude (mkverify.h) is included before every model file */
